import Foundation
import Media
import Testing
import TestSupport
@testable import Library

/// What describes a library file: a person's words (file name, caption, sidecar), never an editor's or camera's
/// signature or a device's clock name (issue 27). No model needed.
struct DescriptionTests {
    @Test func editorAndCameraSignaturesAreNotDescriptions() {
        let noise = ["File written by Adobe Photoshop\u{A8} 5.0", "OLYMPUS DIGITAL CAMERA", "SONY DSC", "KODAK Digital Still Camera",
                     "CREATOR: gd-jpeg v1.0 (using IJG JPEG v62), quality = 90", "Created with GIMP", "LEAD Technologies Inc. V1.01",
                     "Canon EOS 5D Mark IV", "NIKON D3500 Ver.1.00", "Ver.1.01", "Picasa", "Screenshot", "default", "HDR+ 1.0.0",
                     "(c) 2019 Jane Doe", "Processed with VSCO with a6 preset", "Made with Snapseed", "Copyright 2020 ACME Ltd", "   "]
        for text in noise { #expect(DescriptionText.meaningful(text) == nil, "\(text)") }
        for text in ["A red kite over the dunes", "Photoshop conference in Berlin", "Grandma's 90th birthday", "fishing net", "Canon beach at low tide"] {
            #expect(DescriptionText.meaningful(text) == text)
        }
    }

    @Test func deviceNamesSayNothingPeoplesWordsDo() {
        for name in ["IMG_20240601_101500.jpg", "PXL_20231224_183012345.MP.jpg", "DSC01234.JPG", "DSCN0042.jpg", "2024-06-01 10.15.00.jpg",
                     "WhatsApp Image 2024-06-01 at 10.15.00.jpeg", "Screenshot_20240601-101500.png", "GOPR0042.MP4", "DJI_0042.JPG",
                     "DCIM/100CANON/IMG_0042.JPG", "20240601_101500.jpg", "MVI_1234.MOV", "IMG_0042 (2).jpg"] {
            #expect(LibraryScanner.nameWords(name) == "", "\(name) -> \(LibraryScanner.nameWords(name))")
        }
        #expect(LibraryScanner.nameWords("IMG_1234 grandma garden.jpg") == "grandma garden")
        #expect(LibraryScanner.nameWords("holidays/IMG_20240601_101500.jpg") == "holidays")
        #expect(LibraryScanner.nameWords("2019/06/Camping trip - tent by the lake.jpg") == "Camping trip tent by the lake")
        #expect(LibraryScanner.nameWords("astronaut_portrait.png") == "astronaut portrait")
        #expect(LibraryScanner.nameWords("covid19_testing_site.jpg") == "covid19 testing site")
    }

    static func picture(_ dir: URL, _ name: String, _ text: Embed.Text?) throws -> URL {
        let url = dir.appendingPathComponent(name)
        let (s, o) = runTool("/usr/bin/ffmpeg", ["-loglevel", "error", "-f", "lavfi", "-i", "color=c=orange:s=16x16", "-frames:v", "1", "-f", "image2",
                                                            "-c:v", name.lowercased().hasSuffix(".png") ? "png" : "mjpeg", url.path])
        #expect(s == 0, "\(o)")
        if let text { try Data(Embed.apply(text, to: [UInt8](try Data(contentsOf: url)))).write(to: url) }
        return url
    }

    /// The issue's own cases: Photoshop's comment outranked `astronaut_portrait.png`; `IMG_20240601_101500.jpg` with a
    /// caption got an empty description.
    @Test func aSignatureNeverOutranksTheNameAndACaptionDescribesACameraName() throws {
        let dir = TempDir()
        _ = try Self.picture(dir.url, "astronaut_portrait.png", .pngText(keyword: "Comment", latin1: Array("File written by Adobe Photoshop".utf8) + [0xA8] + Array(" 5.0".utf8)))
        _ = try Self.picture(dir.url, "IMG_20240601_101500.jpg", .iptc(caption: "An astronaut in an orange flight suit", keywords: ["space", "portrait"]))
        _ = try Self.picture(dir.url, "DSC01234.jpg", .exifDescription("OLYMPUS DIGITAL CAMERA"))
        _ = try Self.picture(dir.url, "harbour_at_dawn.jpg", .exifDescription("SONY DSC"))
        _ = try Self.picture(dir.url, "PXL_20231224_183012345.MP.jpg", .xmp(title: nil, description: "Family opening presents by the Christmas tree"))
        _ = try Self.picture(dir.url, "espresso_cup.png", .pngText(keyword: "Title", latin1: Array("Morning coffee".utf8)))
        let (found, warnings) = try LibraryScanner.scan(folder: dir.url, field: "visuals.folder")
        #expect(warnings.isEmpty)
        let by = Dictionary(uniqueKeysWithValues: found.map { ($0.path, ($0.description, $0.source)) })
        #expect(by["astronaut_portrait.png"]?.0 == "astronaut portrait" && by["astronaut_portrait.png"]?.1 == .name, "\(String(describing: by["astronaut_portrait.png"]))")
        #expect(by["IMG_20240601_101500.jpg"]?.0 == "An astronaut in an orange flight suit. space, portrait", "\(String(describing: by["IMG_20240601_101500.jpg"]))")
        #expect(by["IMG_20240601_101500.jpg"]?.1 == .metadata)
        #expect(by["DSC01234.jpg"]?.0 == "", "\(String(describing: by["DSC01234.jpg"]))")
        #expect(by["harbour_at_dawn.jpg"]?.0 == "harbour at dawn" && by["harbour_at_dawn.jpg"]?.1 == .name)
        #expect(by["PXL_20231224_183012345.MP.jpg"]?.0 == "Family opening presents by the Christmas tree")
        // A real title and the name's words both count.
        #expect(by["espresso_cup.png"]?.0 == "Morning coffee. espresso cup", "\(String(describing: by["espresso_cup.png"]))")
        // The edited files still decode.
        for name in ["astronaut_portrait.png", "IMG_20240601_101500.jpg", "DSC01234.jpg"] {
            #expect((try? MediaReader.probe(dir.url.appendingPathComponent(name).path).first(.video)?.width) == 16, "\(name)")
        }
    }
}
