"""Assay: a self-hosted platform for evaluating AI agents and models.

Importing this package loads no SDKs; see ``assay.api.app.create_app`` for the service and
``assay.cli`` for the command line.
"""

__version__ = "0.1.0"
