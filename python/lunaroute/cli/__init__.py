"""The `lunaroute` command line (CONTRACT §2). Entry point: `lunaroute.cli.main:main`."""
