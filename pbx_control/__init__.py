"""pbx-control: a hosted business phone system on a stock Asterisk 22."""

__version__ = "0.1.0"
