"""Local infrastructure for CoffeeShop: the servers `manage_all.py` and the tests start.

Every piece here is a real server started from a package the project installs
itself (docs/architecture.md, "Locally and in production"). Nothing in this
package is imported by a site; it is tooling for one machine.

stack.py     the orchestrator (`Stack`): starts, provisions and stops everything
servers/     one module per local server, each a `LocalServer` (servers/server.py);
             account.py: the account they run as and where their files live
provisioning.py, signing_keys.py, clients.py, secret_files.py
             what the sites are given: secrets, databases, keys, OAuth clients
sites.py, workers.py
             the Django sites (environment, manage.py, gunicorn, web build) and the
             background workers beside them
cli.py, testrun.py
             `manage_all.py`'s commands and its `test` command
prerequisites.py, browser.py
             system programs (JDK, Maven, npm, Chromium) and how they are installed
"""
