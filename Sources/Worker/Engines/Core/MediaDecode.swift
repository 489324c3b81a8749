import Media

/// The few media calls engines need, so engines depend on `Media` in one place.
enum MediaDecode {
    static func audio(_ path: String, sampleRate: Int) throws(MediaError) -> [Float] {
        try MediaReader.audioSamples(path, sampleRate: sampleRate, channels: 2)
    }
}
