"""Collection: invitations, survey links and pages, responses from links, apps and widgets."""
