"""The flows, free of HTTP details: each module owns one job and is unit-tested without the test client."""
