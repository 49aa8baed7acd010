pytest_plugins = ["naq_core.testing.fixtures"]
