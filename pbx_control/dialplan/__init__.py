"""What turns our data into Asterisk dialplan."""
