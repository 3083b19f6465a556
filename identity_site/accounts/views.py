"""Identity's own pages: log in (throttled), register, verify an e-mail address, account,
log out.

Password reset uses Django's views with our templates (see identity_site/config/urls.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from identity_site.accounts.forms import LoginForm, RegistrationForm
from identity_site.accounts.services import (
    VerificationLinkRefused,
    email_verification_send,
    user_email_verify,
    user_register,
)
from identity_site.accounts.throttling import (
    login_failure_record,
    login_failures_clear,
    login_lockout_minutes,
)
from shared.problems import DomainError
from shared.proxies import client_address


def _address(request: HttpRequest) -> str:
    # Behind proxies, the address they saw: TRUSTED_PROXIES says which (shared/proxies.py).
    return client_address(request)


def _too_many(minutes: int) -> str:
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many attempts, try again in {minutes} {unit}."


class ThrottledLoginView(LoginView):
    """Django's login view; after LOGIN_MAX_FAILURES failures for one account from one
    address, that pair gets 429 and a clear message until the lockout ends."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = False

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = request.POST.get("username", "")
        minutes = login_lockout_minutes(email=email, address=_address(request))
        if minutes:
            return self._locked_out(minutes)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        login_failures_clear(email=form.cleaned_data["username"], address=_address(self.request))
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        email = self.request.POST.get("username", "")
        if email:
            login_failure_record(email=email, address=_address(self.request))
            minutes = login_lockout_minutes(email=email, address=_address(self.request))
            if minutes:
                return self._locked_out(minutes)
        return super().form_invalid(form)

    def _locked_out(self, minutes: int) -> HttpResponse:
        form = self.get_form()
        form.errors.clear()
        form.add_error(None, _too_many(minutes))
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 429
        response["Retry-After"] = str(minutes * 60)
        return response


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(str(settings.LOGIN_REDIRECT_URL))


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def register(request: HttpRequest) -> HttpResponse:
    """New accounts are customers; Django's password validators apply."""
    form = RegistrationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = user_register(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                    full_name=form.cleaned_data["full_name"],
                )
            except DomainError as err:
                form.add_error(
                    err.extra.get("field", "email").replace("password", "password1"), err.detail
                )
            else:
                email_verification_send(user=user, site_url=_site_url(request))
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return HttpResponseRedirect(_next_url(request))
        status = 400
    return render(
        request,
        "accounts/register.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


def _site_url(request: HttpRequest) -> str:
    """This site's origin as the person reached it (the Host header is checked against
    ALLOWED_HOSTS), for links in e-mail, as Django's password reset builds them."""
    return request.build_absolute_uri("/")


@login_required
@never_cache
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account.html")


@require_safe
@never_cache
def email_verify(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link from the verification e-mail. Refused (expired, tampered, for an old
    address): a page saying so, status 400, nothing changed."""
    try:
        user_email_verify(uidb64=uidb64, token=token)
    except VerificationLinkRefused as refused:
        context = {"detail": refused.detail, "expired": refused.state.value == "expired"}
        return render(request, "accounts/email_verify_failed.html", context, status=400)
    return render(request, "accounts/email_verified.html")


@login_required
@require_POST
@csrf_protect
def email_verification_resend(request: HttpRequest) -> HttpResponse:
    """Send the signed-in person a new verification link (at most one a minute)."""
    if email_verification_send(user=request.user, site_url=_site_url(request)):  # type: ignore[arg-type]
        messages.success(request, f"We sent a new link to {request.user.email}.")  # type: ignore[union-attr]
    else:
        messages.info(request, "A link went out less than a minute ago; check your inbox.")
    return HttpResponseRedirect(reverse("account"))
