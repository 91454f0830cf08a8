"""Command groups of the `travelgate` CLI; each module exposes `register(subparsers)`."""
