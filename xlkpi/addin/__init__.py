"""The add-in factory: builds, verifies and installs xlkpi.xlam (runs outside Excel).

`xlkpi.excel` holds what runs inside Excel (ribbon actions, worksheet functions, live
sheets); this package makes the file Excel loads and puts it in place: `vba` writes the VBA,
`build` assembles the .xlam, `verify` reads it back as Excel would, `install` puts it where
Excel loads it and records the Python that serves it.
"""
