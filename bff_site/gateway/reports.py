"""A manager's day report (`GET /api/manage/report?date=YYYY-MM-DD&top=N`).

Managers only: a barista or customer is answered 403 before Order is asked. Order
validates `date` and `top` and names a bad one (its 400 passes through), and counts
(docs/bff-api.md says what). Not cached: a manager pressing Refresh after a sale
expects to see it, and Order answers from three indexed aggregate queries.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from bff_site.clients import order as order_client
from bff_site.gateway.apis import api
from bff_site.gateway.menu_edits import ManagersOnly

REPORT_PARAMS = ("date", "top")


@require_GET
@api(staff=True)
def day_report(request: HttpRequest, user: dict[str, Any]) -> HttpResponse:
    if "manager" not in user.get("roles", []):
        raise ManagersOnly("Only a manager can see the day's takings.")
    query = {k: request.GET[k] for k in REPORT_PARAMS if k in request.GET}
    response = JsonResponse(order_client.order_report(user=user, query=query))
    response["Cache-Control"] = "no-store"
    return response
