"""The local dashboard, in the spirit of .NET Aspire's: every part with its state,
health and resources, each part's console and structured logs, recent traces and live
metric charts, in one page on http://127.0.0.1:18888/ (`COFFEESHOP_DASHBOARD_PORT`).

`up` starts it as part `dashboard` (devstack/servers/dashboard.py); it reads the state
folder `manage_all.py status` reads.
"""
