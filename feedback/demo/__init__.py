"""The demo journey: a web shop's eight-stage journey, its owners and touchpoints."""
