"""The `xlkpi` command line: one module per subcommand, each over one function of xlkpi.api."""
