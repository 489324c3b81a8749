/// What a media file is, read from its first bytes only (no decoding, no libav): the supervisor checks a job's
/// assets with it at pick-up, before any worker runs, and the worker's plan asks it first so the two agree.
public struct MediaHeader: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        case png, jpeg, gif, webp, bmp
        case wav, flac, ogg, mp3, aac
        case mp4, quicktime, matroska, webm, avi, mpegPS, mpegTS
        /// HEIC/AVIF pictures (an iPhone photo renamed .jpg): recognised so the message can say so; libav cannot decode them.
        case heif

        /// How a message names it: "a PNG picture".
        public var name: String {
            switch self {
            case .png: "a PNG picture"
            case .jpeg: "a JPEG picture"
            case .gif: "a GIF"
            case .webp: "a WebP picture"
            case .bmp: "a BMP picture"
            case .wav: "WAV audio"
            case .flac: "FLAC audio"
            case .ogg: "an Ogg stream"
            case .mp3: "MPEG audio (MP3)"
            case .aac: "AAC audio (ADTS)"
            case .mp4: "an MP4 file"
            case .quicktime: "a QuickTime (MOV) file"
            case .matroska: "a Matroska (MKV) file"
            case .webm: "a WebM file"
            case .avi: "an AVI file"
            case .mpegPS: "an MPEG program stream"
            case .mpegTS: "an MPEG transport stream"
            case .heif: "a HEIF/AVIF picture"
            }
        }
    }

    public enum Kind: String, Sendable, Hashable {
        case image, audio, video
    }

    public let format: Format
    /// What the file can stand for. An MP4 with picture and sound is both `video` and `audio`; a GIF is an `image`
    /// and a `video`; a container whose tracks the header does not reveal cheaply (Matroska) claims both.
    public let kinds: Set<Kind>
    /// Pixels as shown (EXIF orientation applied); nil where the header does not say (audio, most containers).
    public let width: Int?
    public let height: Int?
    /// EXIF orientation, 1 (upright) ... 8; 1 for everything but a JPEG that says otherwise.
    public let orientation: Int

    public init(format: Format, kinds: Set<Kind>, width: Int? = nil, height: Int? = nil, orientation: Int = 1) {
        self.format = format; self.kinds = kinds; self.width = width; self.height = height; self.orientation = orientation
    }
}

/// Why a header was refused.
public enum MediaHeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read (the system's reason), or is not a regular file.
    case unreadable(String)
    /// No format this module knows; `seen` says what the bytes look like ("text", "an empty file", "bytes 00 01 ...").
    case unknownFormat(seen: String)
    /// The file ends inside its own header.
    case truncated(MediaHeader.Format)
    /// The header is there but contradicts its format.
    case malformed(MediaHeader.Format, String)
    /// A picture whose header says it has no pixels.
    case zeroDimensions(MediaHeader.Format, width: Int, height: Int)
    /// A picture larger than `MediaLimits.maxPictureSide` on a side.
    case tooLarge(MediaHeader.Format, width: Int, height: Int, limit: Int)

    public var description: String {
        switch self {
        case .unreadable(let why): "a file that cannot be read (\(why))"
        case .unknownFormat(let seen): "\(seen), not a media format ProStudio reads"
        case .truncated(let f): "\(f.name) cut short inside its header"
        case .malformed(let f, let why): "\(f.name) with a damaged header (\(why))"
        case .zeroDimensions(let f, let w, let h): "\(f.name) of \(w)x\(h) pixels"
        case .tooLarge(let f, let w, let h, _): "\(f.name) of \(w)x\(h) pixels"
        }
    }
}

/// Limits shared by the supervisor's header check and the worker's full decode, so the two cannot disagree.
public enum MediaLimits {
    /// Sides beyond this would take gigabytes to decode and scale.
    public static let maxPictureSide = 16_384
}
