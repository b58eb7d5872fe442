namespace Kaizen.Portal.Storage;

/// <summary>
/// The base of the portal's pass-through streams: read forward only, no seeking, no writing. A subclass implements
/// <see cref="Stream.Read(byte[], int, int)"/> (and usually <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/>).
/// </summary>
public abstract class ReadOnlyStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
