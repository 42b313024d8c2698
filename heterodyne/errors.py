"""The one exception type the command line turns into a one-line message and exit code 1."""


class HeterodyneError(Exception):
    """A user-facing error: bad input, bad configuration, unreadable or unwritable files.

    The message is a single line saying what is wrong and where (a file path, an HDF5 path or a
    configuration key path). The command line prints it without a traceback unless --verbose.
    """
