// CheckpointWeights.swift — a SAM2RCheckpoint store as the model's WeightSource.

import SAM2RCheckpoint
import SAM2RModel

extension Checkpoint: WeightSource {
    public func shape(of name: String) -> [Int]? { self[name]?.shape }
}
