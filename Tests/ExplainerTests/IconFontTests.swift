import Foundation
import Testing
import TestSupport
@testable import Explainer

enum IconFontDependency {
    static let font = TestDependency("the Material Icons font (apt-get install fonts-material-design-icons-iconfont; scripts/setup --tests)") { () throws -> String in
        guard FileManager.default.fileExists(atPath: IconFont.defaultPath) else { throw Unavailable("no \(IconFont.defaultPath)") }
        return IconFont.defaultPath
    }
}

/// The icon names read from the font's ligatures (Debian ships no codepoints file).
@Suite(.enabled(if: IconFontDependency.font.enabled, "needs the Material Icons font"))
struct IconFontTests {
    @Test func namesComeFromTheFontsLigatures() throws {
        let names = try IconFont.names(path: try IconFontDependency.font.get())
        print("Material Icons: \(names.count) ligature names")
        #expect(names.count > 1500)
        for known in ["home", "park", "local_cafe", "directions_bus", "lightbulb", "eco", "water_drop"] {
            #expect(names.contains(known), "\(known) is not among the font's names")
        }
        #expect(names.allSatisfy { $0.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" } })
    }

    @Test func aFileThatIsNotAFontIsAnErrorNamingIt() throws {
        let dir = TempDir("iconfont")
        let path = dir.write("not-a-font.ttf", "hello, this is text")
        #expect(throws: IconFont.ReadError.self) { try IconFont.names(path: path) }
        do { _ = try IconFont.names(path: path) } catch { #expect("\(error)".contains("not-a-font.ttf")) }
    }
}
