"""The texts of the account mails, in the user's language (sv, en): the welcome mail an admin's new
user gets, and the reset mail a user asks for. Pure; the link is the only secret in them (never a
password)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str


def welcome(language: str, *, name: str, organization: str, username: str, link: str, app_url: str) -> Mail:
    if language == "en":
        return Mail(
            f"Welcome to {organization}'s phone system",
            f"Hello {name},\n\n"
            f"You have an account in {organization}'s phone system.\n\n"
            f"Your username: {username}\n\n"
            "Choose your password here (the link works once, for 7 days):\n"
            f"{link}\n\n"
            "Install the app and sign in:\n"
            f"1. Open {app_url} in the web browser of your computer or phone"
            " (Chrome, Edge, Safari or Firefox).\n"
            '2. To have it as an app with its own icon: "Add to Home Screen" in the browser\'s menu'
            ' on a phone, "Install page as app" (Chrome, Edge) on a computer.\n'
            "3. Sign in with your username and the password you chose.\n\n"
            f"Link no longer working? Ask for a new one at {app_url}#reset-password\n",
        )
    return Mail(
        f"Välkommen till telefonin hos {organization}",
        f"Hej {name}!\n\n"
        f"Du har fått ett konto i telefonin hos {organization}.\n\n"
        f"Ditt användarnamn: {username}\n\n"
        "Välj ditt lösenord här (länken fungerar en gång, i 7 dagar):\n"
        f"{link}\n\n"
        "Så installerar du appen och loggar in:\n"
        f"1. Öppna {app_url} i webbläsaren på datorn eller mobilen"
        " (Chrome, Edge, Safari eller Firefox).\n"
        '2. Vill du ha den som en app med egen ikon: "Lägg till på hemskärmen" i webbläsarens meny'
        ' på mobilen, "Installera sidan som app" (Chrome, Edge) på datorn.\n'
        "3. Logga in med ditt användarnamn och lösenordet du valde.\n\n"
        f"Har länken slutat fungera? Be om en ny på {app_url}#reset-password\n",
    )


def reset(language: str, *, name: str, username: str, link: str) -> Mail:
    if language == "en":
        return Mail(
            "Choose a new password",
            f"Hello {name},\n\n"
            f"Someone (probably you) asked for a new password for the username {username}.\n"
            "Choose one here (the link works once, for 1 hour):\n"
            f"{link}\n\n"
            "Did you not ask? Then ignore this mail: your password has not changed.\n",
        )
    return Mail(
        "Välj ett nytt lösenord",
        f"Hej {name}!\n\n"
        f"Någon (troligen du) bad om ett nytt lösenord för användarnamnet {username}.\n"
        "Välj ett här (länken fungerar en gång, i 1 timme):\n"
        f"{link}\n\n"
        "Bad du inte om det? Strunta då i det här mejlet: ditt lösenord är oförändrat.\n",
    )
