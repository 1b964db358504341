"""The call policy against toll fraud: which outside destinations may be dialled, forwarded to,
transferred to and used as group overflow, per organization and narrowed per user; the most
concurrent outside calls and the longest one (issue 13 item 3)."""
