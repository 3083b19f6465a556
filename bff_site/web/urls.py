from django.urls import path

from bff_site.web import views

app_name = "web"

urlpatterns = [
    path("", views.shell, name="shell"),
]
