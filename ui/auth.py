"""Who is looking: the class mode's login (`st.login`, any OpenID Connect provider) and the viewer's `Actor`.

With an `[auth]` section in `.streamlit/secrets.toml` the app asks every visitor to log in and knows them by
the provider's email claim (its subject where it gives none, or says the email is not verified). Teachers are
listed in the app's config: `[resnet_lab] teachers = ["…"]` in the same secrets file, or env RESNET_LAB_TEACHERS
(comma-separated); both are read, emails compared without case. The students' default cap on runs waiting or training is
`[resnet_lab] queue_cap` or env RESNET_LAB_QUEUE_CAP (execution/access.py; a teacher can change it in the app).

Without `[auth]` nobody logs in: the app is one person's, on their own machine (`make run` binds localhost),
and that person is the local administrator, as the command line is (store/access.ADMIN).
"""

from __future__ import annotations

import os

import streamlit as st

from resnet_core.execution.access import RunAccess, configured_cap
from resnet_core.execution.jobs import JobRunner
from resnet_core.presentation.i18n import _
from resnet_core.store.access import ADMIN, Actor

SETTINGS = "resnet_lab"  # the app's own section of secrets.toml


def _secrets_section(name: str) -> dict:
    """A section of secrets.toml, or {} without the file or the section (Streamlit's secrets would raise)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        return dict(st.secrets.get(name, {}))
    except Exception:  # a malformed secrets file: Streamlit says so itself; the app stays single-user
        return {}


def class_mode() -> bool:
    """Whether visitors log in: secrets.toml has an `[auth]` section."""
    return bool(_secrets_section("auth"))


def teachers() -> set[str]:
    """The teachers' emails (or subjects), lower-case, from secrets.toml's [resnet_lab] and RESNET_LAB_TEACHERS."""
    listed = _secrets_section(SETTINGS).get("teachers", [])
    if isinstance(listed, str):
        listed = listed.split(",")
    listed = list(listed) + os.environ.get("RESNET_LAB_TEACHERS", "").split(",")
    return {str(t).strip().lower() for t in listed if str(t).strip()}


def default_cap() -> int:
    value = _secrets_section(SETTINGS).get("queue_cap")
    return int(value) if isinstance(value, int) and value > 0 else configured_cap()


def viewer() -> Actor:
    """The person this session belongs to: the local administrator without a login; with one, who logged in.
    A session in class mode that has not logged in never gets here (`require_login` stops its page first);
    should one, it stops here too."""
    if not class_mode():
        return ADMIN
    if not st.user.is_logged_in:
        require_login()
    email, sub = st.user.get("email"), st.user.get("sub")
    if st.user.get("email_verified") is False:  # the provider says it did not check it: anyone could claim it
        email = None
    ident = str(email or sub or "").strip().lower()
    if not ident:  # a provider that names nobody: no identity to own runs by
        st.error(_("Your login gave no email or subject: ask the teacher to check the app's OIDC provider."))
        st.stop()
    name = st.user.get("name")
    return Actor(ident, teacher=ident in teachers() or str(sub or "").lower() in teachers(), name=name and str(name))


def logged_out() -> bool:
    """Class mode, and this visitor has not logged in yet."""
    return class_mode() and not st.user.is_logged_in


def require_login() -> None:
    """In class mode, a visitor who has not logged in sees the login and nothing else (the page stops here)."""
    if not logged_out():
        return
    st.title("ResNet Lab")
    st.markdown(
        _("This ResNet Lab is shared by a class. Log in to train your own nets and see the runs shared with you.")
    )
    if st.button(_("Log in"), type="primary", key="auth.login"):
        st.login()
    st.stop()


def access_for(runner: JobRunner) -> RunAccess:
    """The runner's runs as this session's viewer may see and act on them (execution/access.RunAccess)."""
    return RunAccess(runner, viewer(), default_cap=default_cap())


def sidebar_identity() -> None:
    """In class mode: who is logged in (a teacher is marked), and Log out."""
    if not class_mode() or not st.user.is_logged_in:
        return
    who = viewer()
    name = who.name or who.id or ""
    st.text(_("{name} · teacher").format(name=name) if who.teacher else name)  # text: a name is never markup
    if st.button(_("Log out"), key="auth.logout"):
        st.logout()
