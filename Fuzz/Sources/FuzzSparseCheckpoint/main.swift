// Any bytes read as a checkpoint, sparse tensors included (SparseTensors): an error is fine,
// a crash or a huge allocation is not.

import FuzzSupport
import Synapse

fuzz { path in _ = try? CheckpointFile(path: path) }
