using System.IO.Hashing;
using System.Runtime.InteropServices;
using Optim4RL.Io;

namespace Optim4RL.Tests.Io;

/// <summary>Float arrays past 2³¹ bytes are streamed in pieces: no overflow, the exact bytes, in order.</summary>
[Collection(ProcessWideMeasurements.Name)]
public class BinaryArraysTests
{
    /// <summary>600 M floats = 2.4 GB, more than <see cref="int.MaxValue"/> bytes.</summary>
    private const int Huge = 600_000_000;

    [Fact]
    public void Writing_more_than_2_GB_streams_every_byte_in_order()
    {
        float[] values = GC.AllocateUninitializedArray<float>(Huge);
        for (int i = 0; i < values.Length; i += 4096) values[i] = i; // distinct content along the array

        var sink = new HashingStream(null);
        using (var w = new BinaryWriter(sink)) BinaryArrays.WriteFloats(w, values);

        Assert.Equal(4L + 4L * Huge, sink.BytesWritten);
        // Independent computation: the length prefix, then the array's bytes in other-sized pieces.
        var expected = new XxHash3();
        expected.Append(BitConverter.GetBytes(Huge));
        for (long start = 0; start < Huge; start += 100_000_000)
            expected.Append(MemoryMarshal.AsBytes(values.AsSpan((int)start, (int)Math.Min(100_000_000, Huge - start))));
        Assert.Equal(expected.GetCurrentHashAsUInt64(), sink.Hash);
    }

    [Fact]
    public void Reading_more_than_2_GB_fills_the_whole_array()
    {
        var source = new PatternStream(Huge);
        float[] values = GC.AllocateUninitializedArray<float>(Huge);
        using (var r = new BinaryReader(source)) BinaryArrays.ReadFloats(r, values);
        foreach (int i in new[] { 0, 1, 536_870_911, 536_870_912, 536_870_913, Huge - 1 })
            Assert.Equal(PatternStream.ValueAt(i), values[i]);
    }

    [Fact]
    public void A_small_array_round_trips_and_a_wrong_length_or_short_stream_is_an_error()
    {
        float[] x = [1f, -0f, float.Epsilon, 3.4e38f, 42f];
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) BinaryArrays.WriteFloats(w, x);
        ms.Position = 0;
        float[] y = new float[5];
        using (var r = new BinaryReader(ms, System.Text.Encoding.UTF8, leaveOpen: true)) BinaryArrays.ReadFloats(r, y);
        Assert.Equal(x.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));

        ms.Position = 0;
        Assert.Throws<InvalidDataException>(() => BinaryArrays.ReadFloats(new BinaryReader(ms), new float[4]));
        var cut = new MemoryStream(ms.ToArray()[..12]);
        Assert.Throws<EndOfStreamException>(() => BinaryArrays.ReadFloats(new BinaryReader(cut), new float[5]));
    }

    /// <summary>A read-only stream of an int32 length followed by <c>n</c> floats whose value is a function of the index.</summary>
    private sealed class PatternStream(int n) : Stream
    {
        private long _pos;

        public static float ValueAt(long i) => (float)(i & 0xFFFFF) - (i >> 20);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => 4L + 4L * n;

        public override long Position { get => _pos; set => throw new NotSupportedException(); }

        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int done = 0;
            // Whole floats straight into the buffer (the fast path the reader's 1 MiB pieces take).
            if (_pos >= 4 && _pos % 4 == 0)
            {
                var floats = MemoryMarshal.Cast<byte, float>(buffer);
                long first = _pos / 4 - 1;
                int count = (int)Math.Min(floats.Length, n - first);
                for (int k = 0; k < count; k++) floats[k] = ValueAt(first + k);
                done = 4 * count;
                _pos += done;
            }

            Span<byte> word = stackalloc byte[4];
            while (done < buffer.Length && _pos < Length)
            {
                long index = _pos / 4;
                if (index == 0) BitConverter.TryWriteBytes(word, n);
                else BitConverter.TryWriteBytes(word, ValueAt(index - 1));
                int within = (int)(_pos % 4);
                int take = Math.Min(4 - within, buffer.Length - done);
                word.Slice(within, take).CopyTo(buffer[done..]);
                done += take;
                _pos += take;
            }

            return done;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
