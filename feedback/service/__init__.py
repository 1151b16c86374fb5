"""The service shell: database, migrations, app factory, logging and the command line."""
