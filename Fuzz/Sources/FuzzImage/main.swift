// Any bytes given to the PNG and PGM decoder, as the file's own channels and as gray.

import FuzzSupport
import Synapse

fuzz { path in
    _ = try? Image(contentsOf: path)
    _ = try? Image(contentsOf: path, channels: 1)
}
