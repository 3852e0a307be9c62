// Any bytes, plain or gzip, given to the IDX reader and the bounded gzip reader.

import FuzzSupport
import Synapse

fuzz { path in
    _ = try? IDXArray(contentsOf: path)
    _ = try? readPossiblyCompressedFile(path, limit: 1 << 24)
}
