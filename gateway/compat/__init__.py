"""The gateway's uses of libraries' internals, one module per library.

Everything here leans on something a library does not promise to keep: a
private attribute, a module outside its public API, a marker it sets on its
own objects. Keeping each such use in one place, with a test in tests/compat
that fails loudly when an upgrade breaks it, makes an upgrade a reading of one
file rather than a search.
"""
