"""Signing a test client in and out the way a browser does, CSRF token included."""

from tests.support import factories
from tests.support.pages import csrf_token
from tests.support.second_factor import fresh_code, secret_on_page


class AuthActions:
    """Sign a test client in and out the way a browser does, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def login(self, role_or_user="DOCTOR", password=factories.PASSWORD, follow=False):
        """Sign in as a new user of the role (or as the given user); returns the user.

        A second factor the app asks for is completed as a person would: the code step with
        the enrolled secret, or enrolment with the secret the page shows.
        """
        user = role_or_user
        if isinstance(role_or_user, str):
            user = factories.make_user(role_or_user, password=password)
        response = self.post(
            "/login", {"email": user.email, "password": password}, token_page="/login"
        )
        location = response.headers.get("Location", "")
        if "/login/code" in location:
            response = self.post(location, {"code": fresh_code(user)})
        elif "/account/mfa" in location:
            secret = secret_on_page(self._client.get(location).get_data(as_text=True))
            self.post(location, {"code": fresh_code(user, secret)})
            response = self._client.get("/")
        if follow and response.status_code in (301, 302, 303):
            self._client.get(response.headers["Location"], follow_redirects=True)
        return user

    def logout(self):
        """Sign out through the POST form."""
        return self.post("/logout", {})

    def post(self, url, data, follow=False, token_page=None, **kwargs):
        """POST a form with the CSRF token a page of the app hands out."""
        page = self._client.get(token_page or url, follow_redirects=True)
        payload = {"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
        return self._client.post(url, data=payload, follow_redirects=follow, **kwargs)

    def token(self, url="/login"):
        """A CSRF token valid for this client's session."""
        return csrf_token(self._client.get(url, follow_redirects=True).get_data(as_text=True))


def open_session_for(client, user, second_factor: bool = True, agent: str = "test client") -> str:
    """Give a test client a server-side session of the user without the sign-in form
    (past the second factor unless `second_factor` is False)."""
    from webapp.extensions import db
    from webapp.services.accounts.sessions import mark_second_factor, open_session

    row, token = open_session(user, "127.0.0.1", agent)
    if second_factor:
        mark_second_factor(row)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return token
