"""The local servers: each one a `LocalServer` (server.py) the orchestrator loops over.

postgres, redis, kafka, openbao: infrastructure run as the service account
(account.py); smtp: the e-mail sink; payments: the payment provider's sandbox.
"""
