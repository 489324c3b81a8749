import Captions
import Failures
import Engines
import Foundation
import Logging
import Manifest
import Media
import Normaliser
import Contract

/// The stage cache as the stages use it (look-ups counted for the record, entries written as streams), and the
/// process measurements the runner records.
extension JobRun {

    /// The cached file for `inputs` (marked used), counted for the stage's record; nil when there is none or `valid`
    /// refuses it (a bed of another length).
    func cached(_ inputs: some CacheInputs, valid: (URL) -> Bool = { _ in true }) -> URL? {
        cacheUse.lookups += 1
        guard let file = cache.use(stage: inputs.folder, key: inputs.key), valid(file) else { return nil }
        cacheUse.hits += 1
        return file
    }

    /// A cached narration: its header (rate, words) and its samples' file, counted like `cached`.
    func cachedNarration(_ inputs: some CacheInputs) -> SpokenScene? {
        cacheUse.lookups += 1
        guard let meta = cache.read(stage: inputs.folder, key: inputs.key, ext: "json"),
              let header = try? JSONDecoder().decode(NarrationHeader.self, from: meta),
              let file = cache.use(stage: inputs.folder, key: inputs.key) else { return nil }
        cacheUse.hits += 1
        return SpokenScene(sampleRate: header.sampleRate, frames: Self.sampleCount(file), words: header.words, file: file)
    }

    /// `body`'s samples written into the cache entry for `inputs` (see `spoolSamples`).
    func spool(_ inputs: some CacheInputs, _ body: (SampleFile.Writer) async throws(PipelineError) -> Void) async throws(PipelineError) -> URL {
        try await spoolSamples(stage: inputs.folder, key: inputs.key, body)
    }

    /// Writes a sample file as a stream into the stage cache (`stage`/`key`), or into the work folder when the
    /// cache cannot take it (cannot open, or its disk fills while writing: then `body` runs again into the work
    /// folder, so a full cache costs time, not the job); returns where it is.
    func spoolSamples(stage: String, key: String, _ body: (SampleFile.Writer) async throws(PipelineError) -> Void) async throws(PipelineError) -> URL {
        let local = work.appendingPathComponent("\(stage)-\(key).f32")
        /// Runs `body` into `writer`; the write error, if the file could not be written, else nil.
        func fill(_ writer: SampleFile.Writer) async throws(PipelineError) -> MediaError? {
            do throws(PipelineError) { try await body(writer) } catch {
                try? writer.close()
                try? FileManager.default.removeItem(at: writer.url)
                throw error
            }
            do { try writer.close() } catch {
                try? FileManager.default.removeItem(at: writer.url)
                return error
            }
            return nil
        }
        if let temp = cache.spool(stage: stage, key: key), let writer = try? SampleFile.Writer(url: temp), try await fill(writer) == nil {
            if let entry = cache.commit(writer.url, stage: stage, key: key) { return entry }
            // The cache would not take it: keep the file for this job in the work folder.
            if rename(writer.url.path, local.path) == 0 { return local }
            scratch.append(writer.url)
            return writer.url
        }
        // The job's own work file (under the state folder) not written: its disk full or read-only, which freeing
        // space mends: retryable, not the stage's failure (the fault suite's full state disk failed a job for good).
        func workIO(_ error: MediaError) -> PipelineError {
            .io("io.work", "\(stage): cannot write the work file \(local.lastPathComponent): \(error.detail)", stage: stage)
        }
        let writer: SampleFile.Writer
        do { writer = try SampleFile.Writer(url: local) } catch { throw workIO(error) }
        if let error = try await fill(writer) { throw workIO(error) }
        return local
    }

    /// Samples in a raw Float32 file.
    /// Size and modification time: a re-recorded take under the same name is not served from the cache.
    static func fileStamp(_ path: String) -> String {
        let a = try? FileManager.default.attributesOfItem(atPath: path)
        return "\((a?[.size] as? Int64) ?? -1):\((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
    }

    /// When the poster frame is taken (seconds).
    static func posterTime(_ manifest: JobManifest, _ timeline: Timeline) -> Double {
        min(timeline.duration, manifest.poster.time ?? Double(timeline.scenes[0].frames) / Double(timeline.fps) / 2)
    }

    /// When the title card leaves the screen (seconds), nil without one: compose burns it until then, and the first
    /// scene's picture engine may keep its own type clear of it.
    static func titleEnd(_ manifest: JobManifest, _ timeline: Timeline) -> Double? {
        guard manifest.title != nil, manifest.titleCard else { return nil }
        let firstScene = Double(timeline.scenes[0].frames) / Double(timeline.fps)
        let poster = Self.posterTime(manifest, timeline)
        let end = !manifest.poster.captions ? min(firstScene, 2.5)
            : manifest.poster.title ? max(poster + 0.8, min(firstScene, 2.5)) : max(0.5, poster - 0.05)
        return min(end, max(firstScene, 1.5))
    }

    static func sampleCount(_ file: URL) -> Int {
        Int(((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int64) ?? 0) / 4
    }

    struct NarrationHeader: Codable {
        var sampleRate: Int
        var words: [Narration.Word]
    }
}

/// Peak resident memory per stage, from the kernel's high-water mark (reset at each stage start).
enum ResourceUsage {
    static func resetPeak() {
        // Writing 5 to clear_refs resets VmHWM (Linux >= 4.0); harmless where it is refused.
        if let fd = fopen("/proc/self/clear_refs", "w") { fputs("5", fd); fclose(fd) }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func peakBytes() -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int64($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}
