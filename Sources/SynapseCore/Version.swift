// The library's version, for reports and checkpoints.

/// The version of Synapse this binary was built from.
public let synapseVersion = "0.9.0"
