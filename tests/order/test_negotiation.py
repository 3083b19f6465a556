"""`shared.negotiation.FirstRendererNegotiation` picks what DRF's own negotiation picks."""

from __future__ import annotations

import pytest
from django.http import Http404
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from shared.negotiation import FirstRendererNegotiation

RENDERER_SETS = [
    [JSONRenderer()],
    [OpenApiYamlRenderer(), OpenApiJsonRenderer()],  # drf-spectacular's schema view
]
CASES = [
    ({}, ""),
    ({"HTTP_ACCEPT": "*/*"}, ""),
    ({"HTTP_ACCEPT": "application/json"}, ""),
    ({"HTTP_ACCEPT": "application/json; indent=4"}, ""),
    ({"HTTP_ACCEPT": "application/vnd.oai.openapi"}, ""),
    ({"HTTP_ACCEPT": "text/html, */*;q=0.8"}, ""),
    ({"HTTP_ACCEPT": "text/html"}, ""),
    ({"HTTP_ACCEPT": ""}, ""),
    ({}, "?format=json"),
    ({}, "?format=xml"),
]


def outcome(negotiation, renderers, meta, query):
    request = Request(APIRequestFactory().get(f"/api/orders/{query}", **meta))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except (exceptions.NotAcceptable, Http404) as err:
        return type(err).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_SETS, ids=["json", "schema"])
@pytest.mark.parametrize(("meta", "query"), CASES)
def test_first_renderer_negotiation_picks_what_drf_picks(renderers, meta, query):
    ours = outcome(FirstRendererNegotiation(), renderers, meta, query)
    drf = outcome(DefaultContentNegotiation(), renderers, meta, query)

    assert ours == drf


@pytest.mark.django_db
def test_an_api_that_cannot_answer_in_the_accepted_type_says_406():
    response = APIClient().get("/api/menu/", HTTP_ACCEPT="text/html")

    assert response.status_code == 406
