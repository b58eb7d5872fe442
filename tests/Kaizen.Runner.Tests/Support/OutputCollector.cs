using System.Text;

namespace Kaizen.Runner.Tests.Support;

/// <summary>Collects raw output bytes handed to an output callback (copying them, as the callback contract asks).</summary>
public sealed class OutputCollector
{
    private readonly MemoryStream _bytes = new();

    public int Calls { get; private set; }

    public ValueTask Write(ReadOnlyMemory<byte> data)
    {
        Calls++;
        _bytes.Write(data.Span);
        return ValueTask.CompletedTask;
    }

    public byte[] Bytes => _bytes.ToArray();

    public string Text => Encoding.UTF8.GetString(_bytes.ToArray());
}
