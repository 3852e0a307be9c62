@_exported import SynapseCore
