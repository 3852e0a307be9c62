// Errors in text input.

/// A problem with text given to Synapse (a file that is not UTF-8, a character outside a
/// vocabulary), described in one line that names the file and place at fault.
public struct TextError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
