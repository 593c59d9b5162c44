// The shared vocabulary (JSON, errno, generations, levels) is part of this module's interface.
@_exported import MigconformBase
