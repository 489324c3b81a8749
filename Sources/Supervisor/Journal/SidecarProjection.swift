import Contract
import Foundation

extension Job {
    /// The job's sidecar, as the journal row says (Docs/contract.md, "The sidecar is a projection"): the daemon writes
    /// exactly this, `jobs show --json` prints it, and `GET /v1/jobs/ID` serves it, so the three agree field by field.
    public var sidecar: Sidecar {
        var s = Sidecar(name: name, jobID: id.rawValue, state: sidecarState)
        switch s.state {
        case .queued: s.stage = nil; s.progress = 0
        case .done: s.stage = nil; s.progress = 1
        default: s.stage = stage; s.progress = progress
        }
        s.seed = seed.map { UInt64(bitPattern: $0) }
        let details = report.details
        s.title = details.title
        s.duration_s = details.duration_s
        s.width = details.width
        s.height = details.height
        s.fps = details.fps
        s.scenes = details.scenes
        s.engines = details.engines
        s.captions = details.captions
        s.voice_choice = details.voice_choice
        s.chapters = details.chapters
        s.quality = details.quality
        s.renditions = details.renditions
        s.stages = report.stages
        s.warnings = report.warnings
        s.models = report.models
        s.outputs = Sidecar.Outputs(video: outputs["video"], captions: outputs["captions"], poster: outputs["poster"], webvtt: outputs["webvtt"])
        if [.failed, .rejected, .cancelled].contains(s.state), let e = error {
            s.error = .init(code: e.code, message: e.message, field: e.field, stage: e.stage, disposition: e.disposition ?? defaultDisposition)
        }
        s.created_at = Timestamp.format(createdAt)
        s.updated_at = Timestamp.format(updatedAt)
        return s
    }

    /// `claimed` is pick-up's own: the sidecar says `queued`.
    public var sidecarState: Sidecar.State {
        Sidecar.State(rawValue: state == .claimed ? "queued" : state.rawValue) ?? .failed
    }

    /// For errors journaled before the disposition was: what the state implies.
    private var defaultDisposition: String? {
        switch state {
        case .rejected: "invalid_input"
        case .cancelled: "cancelled"
        case .failed: "permanent"
        default: nil
        }
    }
}
