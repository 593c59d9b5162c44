/// The device under test together with the run's other devices: a peer of the same kind (`--peer`), whose
/// operations are ``DeviceOperation/onPeer(_:)``, and a foreign device (`--foreign-peer`), whose operations are
/// ``DeviceOperation/onForeign(_:)``. Everything else goes to the device under test, which gives the identity and
/// the generation. Sitting below the deadlines and the recorder, every operation on any of the devices has a
/// deadline and lands in the one transcript of the case, in the order it was made.
package final class PeeredDevice: MigrationDevice, DeviceWrapper {
    package let main: MigrationDevice
    package let peer: MigrationDevice?
    package let foreign: MigrationDevice?

    package init(_ main: MigrationDevice, peer: MigrationDevice?, foreign: MigrationDevice? = nil) {
        self.main = main
        self.peer = peer
        self.foreign = foreign
    }

    package var wrapped: MigrationDevice { main }
    package var generation: ProtocolGeneration { main.generation }
    package var identity: DeviceIdentity { main.identity }
    package var answersPromptly: Bool {
        main.answersPromptly && (peer?.answersPromptly ?? true) && (foreign?.answersPromptly ?? true)
    }
    /// A signal frees a call on any of them only when it frees calls on each (then the run's deadlines are watched
    /// on the run's own thread, without a hand-off per operation).
    package var callsInterruptible: Bool {
        main.callsInterruptible && (peer?.callsInterruptible ?? true) && (foreign?.callsInterruptible ?? true)
    }

    package var ownDeadlines: Deadlines? { main.ownDeadlines }
    package func adopt(_ deadlines: Deadlines) {
        main.adopt(deadlines)
        peer?.adopt(deadlines)
        foreign?.adopt(deadlines)
    }

    package func perform(_ operation: DeviceOperation) throws -> DeviceOutcome {
        switch operation {
        case .onPeer(let op):
            guard let peer else { throw TransportError("\(op.kind) on the peer: the run has no peer device (--peer)") }
            return try peer.perform(op)
        case .onForeign(let op):
            guard let foreign else {
                throw TransportError("\(op.kind) on the foreign device: the run has none (--foreign-peer)")
            }
            return try foreign.perform(op)
        default:
            return try main.perform(operation)
        }
    }

    /// The peers are left to their owner, who opened them; the device under test is shut down here as ever.
    package func shutdown() { main.shutdown() }

    package func recoverAfterTimeout() -> Bool {
        let a = main.recoverAfterTimeout()
        let b = peer?.recoverAfterTimeout() ?? true
        let c = foreign?.recoverAfterTimeout() ?? true
        return a && b && c
    }
}
