using System.Text;

namespace Optim4RL.Tests.Io;

/// <summary>One decoded TensorBoard event: wall time, step, file_version (or null) and its simple_value scalars.</summary>
internal sealed record TfEvent(double WallTime, long Step, string? FileVersion, List<(string Tag, float Value)> Scalars);

/// <summary>
/// An independent reader of TensorBoard event files for the tests: TFRecord framing and the
/// protobuf wire format decoded by hand, with its own bitwise CRC-32C (no code shared with the writer).
/// Every record's two CRCs are checked; any mismatch or malformed byte throws.
/// </summary>
internal static class TfEventReader
{
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    public static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    /// <summary>
    /// The events of a file. With <paramref name="allowTruncatedTail"/>, an incomplete last record (a
    /// process killed while appending) ends the file, as TensorBoard reads it; complete records must still be intact.
    /// </summary>
    public static List<TfEvent> Read(string path, bool allowTruncatedTail = false)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var events = new List<TfEvent>();
        int pos = 0;
        while (pos < bytes.Length)
        {
            if (bytes.Length - pos < 12)
            {
                if (allowTruncatedTail) break;
                throw new InvalidDataException($"{path}: truncated record header at byte {pos}");
            }
            ulong length = BitConverter.ToUInt64(bytes, pos);
            uint lengthCrc = BitConverter.ToUInt32(bytes, pos + 8);
            if (lengthCrc != Masked(bytes.AsSpan(pos, 8))) throw new InvalidDataException($"{path}: bad length CRC at byte {pos}");
            pos += 12;
            if ((ulong)(bytes.Length - pos) < length + 4)
            {
                if (allowTruncatedTail) break;
                throw new InvalidDataException($"{path}: truncated record at byte {pos}");
            }
            var data = bytes.AsSpan(pos, (int)length);
            uint dataCrc = BitConverter.ToUInt32(bytes, pos + (int)length);
            if (dataCrc != Masked(data)) throw new InvalidDataException($"{path}: bad data CRC at byte {pos}");
            events.Add(DecodeEvent(data));
            pos += (int)length + 4;
        }
        return events;
    }

    private static TfEvent DecodeEvent(ReadOnlySpan<byte> data)
    {
        double wall = 0;
        long step = 0;
        string? version = null;
        var scalars = new List<(string, float)>();
        int p = 0;
        while (p < data.Length)
        {
            ulong key = Varint(data, ref p);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (field, wire)
            {
                case (1, 1):
                    wall = BitConverter.ToDouble(data.Slice(p, 8));
                    p += 8;
                    break;
                case (2, 0):
                    step = (long)Varint(data, ref p);
                    break;
                case (3, 2):
                    version = Encoding.UTF8.GetString(Bytes(data, ref p));
                    break;
                case (5, 2):
                    DecodeSummary(Bytes(data, ref p), scalars);
                    break;
                default:
                    throw new InvalidDataException($"unexpected Event field {field} (wire type {wire})");
            }
        }
        return new TfEvent(wall, step, version, scalars);
    }

    private static void DecodeSummary(ReadOnlySpan<byte> data, List<(string, float)> scalars)
    {
        int p = 0;
        while (p < data.Length)
        {
            ulong key = Varint(data, ref p);
            if (key != (1 << 3 | 2)) throw new InvalidDataException($"unexpected Summary key {key}");
            var value = Bytes(data, ref p);
            string? tag = null;
            float? simple = null;
            int q = 0;
            while (q < value.Length)
            {
                ulong k = Varint(value, ref q);
                if (k == (1 << 3 | 2)) tag = Encoding.UTF8.GetString(Bytes(value, ref q));
                else if (k == (2 << 3 | 5))
                {
                    simple = BitConverter.ToSingle(value.Slice(q, 4));
                    q += 4;
                }
                else throw new InvalidDataException($"unexpected Summary.Value key {k}");
            }
            scalars.Add((tag ?? throw new InvalidDataException("a Value without a tag"), simple ?? throw new InvalidDataException("a Value without simple_value")));
        }
    }

    private static ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> data, ref int p)
    {
        int n = checked((int)Varint(data, ref p));
        var s = data.Slice(p, n);
        p += n;
        return s;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int p)
    {
        ulong v = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = data[p++];
            v |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return v;
        }
        throw new InvalidDataException("varint longer than 10 bytes");
    }
}
