// Any bytes given to the CSV readers, then every column read as numbers and as strings.

import FuzzSupport
import Synapse

fuzz { path in
    if let table = try? CSVTable(contentsOf: path) {
        for column in table.header.indices {
            _ = try? table.numbers(inColumn: column)
            _ = table.strings(inColumn: column)
        }
    }
    _ = try? NumericCSV(contentsOf: path, hasHeader: true)
}
