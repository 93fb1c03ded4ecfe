"""licensectl: administer SmartServer licenses from a terminal."""

__version__ = "0.1.0"
