"""Local infrastructure for CoffeeShop: the servers `manage_all.py` and the tests start.

Every piece here is a real server started from a package the project installs
itself (DESIGN.md, "Infrastructure, and how each piece starts"). Nothing in
this package is imported by a site; it is tooling for one machine.
"""
