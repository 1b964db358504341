"""Visual voicemail: the messages app_voicemail keeps, listed, played, marked and deleted from the
app; the lamp, events, mail, limits, retention and greetings."""
