"""Signing a test client in and out the way a browser does, CSRF token included."""

from tests.support import factories
from tests.support.pages import csrf_token


class AuthActions:
    """Sign a test client in and out the way a browser does, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def login(self, role_or_user="DOCTOR", password=factories.PASSWORD, follow=False):
        """Sign in as a new user of the role (or as the given user); returns the user."""
        user = role_or_user
        if isinstance(role_or_user, str):
            user = factories.make_user(role_or_user, password=password)
        self.post(
            "/login",
            {"email": user.email, "password": password},
            follow=follow,
            token_page="/login",
        )
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


def open_session_for(client, user) -> str:
    """Give a test client a server-side session of the user without the sign-in form."""
    from webapp.extensions import db
    from webapp.services.accounts.sessions import open_session

    _, token = open_session(user, "127.0.0.1", "test client")
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return token
