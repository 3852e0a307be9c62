@_exported import SynapseCore
@_exported import SynapseNN
@_exported import SynapseOptim
@_exported import SynapseData
@_exported import SynapseIO
@_exported import SynapseTrain
@_exported import SynapseVision
@_exported import SynapseText
