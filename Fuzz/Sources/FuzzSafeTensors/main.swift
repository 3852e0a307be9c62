// Any bytes given to SafeTensors.read: an error is fine, a crash or a huge allocation is not.

import FuzzSupport
import Synapse

fuzz { path in _ = try? SafeTensors.read(path) }
