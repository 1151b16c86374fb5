"""The admin API: owners, journeys with their stages, and touchpoints."""
