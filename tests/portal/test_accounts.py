"""Login, logout, password change and password reset pages."""
import re

from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD


def test_login_with_right_and_wrong_password(client, nordwerk_sales):
    wrong = client.post(reverse("login"), {"username": nordwerk_sales.username, "password": "wrong"})
    assert wrong.status_code == 200 and "correct username and password" in wrong.content.decode()
    right = client.post(reverse("login"), {"username": nordwerk_sales.username, "password": PASSWORD})
    assert right.status_code == 302 and right["Location"] == reverse("collaboration:purchase-order-list")


def test_logout_is_a_post_and_ends_the_session(client, nordwerk_sales):
    client.force_login(nordwerk_sales)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("collaboration:purchase-order-list")).status_code == 302


def test_password_change(client, nordwerk_sales):
    client.force_login(nordwerk_sales)
    assert "Change password" in client.get(reverse("password_change")).content.decode()
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-new-and-long-passphrase", "new_password2": "a-new-and-long-passphrase"},
    )
    assert response.status_code == 302
    nordwerk_sales.refresh_from_db()
    assert nordwerk_sales.check_password("a-new-and-long-passphrase")


def test_password_reset_mails_a_working_link(client, nordwerk_sales, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    nordwerk_sales.email = "clerk@nordwerk.example"
    nordwerk_sales.save()
    client.post(reverse("password_reset"), {"email": "clerk@nordwerk.example"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert done.status_code == 302
    nordwerk_sales.refresh_from_db()
    assert nordwerk_sales.check_password("another-long-passphrase")
