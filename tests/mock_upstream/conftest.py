"""Makes the `mock_upstream` fixture available to the mock's own tests.

Test modules elsewhere import it explicitly:
`from tests.mock_upstream.fixture import mock_upstream`.
"""

from tests.mock_upstream.fixture import mock_upstream

__all__ = ["mock_upstream"]
