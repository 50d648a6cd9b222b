#!/usr/bin/env perl
# Fails if a Rust file of the repository names a path outside the repository (see the `paths`
# step in .ci/run for the rule and why). Usage: perl .ci/check_paths.pl [ROOT]
# ROOT (default: the current directory) is a checkout; its tracked *.rs files are checked, or
# every *.rs file below it when it is not a git checkout. Prints one line per offence,
# `file:line: "literal": reason`, and exits 1 if there is any.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Spec;

my $root = abs_path($ARGV[0] // '.');
my @files = grep { length } split /\n/, `git -C '$root' ls-files -- '*.rs' 2>/dev/null`;
if (!@files) {
    @files = map { File::Spec->abs2rel($_, $root) } split /\n/,
        `find '$root' -name target -prune -o -name '*.rs' -print`;
}

# Absolute prefixes a program may name: the Linux process interface (machine facts printed
# in reports) and the system font directories (optional text in the example's plots).
my @allowed_abs = ('/proc/', '/usr/share/fonts/');
# Directories of the usual machines that a path must never lead into (also inside a literal
# that does not start with them, e.g. a shell command).
my $foreign_root = qr{(?:^|[\s=:'"(,;])(/(?:work|home|tmp|root|Users|mnt|opt|srv|var|etc|media)(?:/|\b))};

my $bad = 0;
for my $rel (@files) {
    my $path = "$root/$rel";
    open my $fh, '<:encoding(UTF-8)', $path or die "$path: $!";
    my $src = do { local $/; <$fh> };
    close $fh;
    # Doc-comment code blocks are doctests, i.e. code: unwrap them so their literals count.
    my $fence = 0;
    my @lines = split /\n/, $src, -1;
    for (@lines) {
        if (m{^(\s*)//[/!]\s?(.*)$}) {
            my ($indent, $text) = ($1, $2);
            if ($text =~ /^\s*```/) { $fence = !$fence; next; }
            $_ = $indent . '    ' . $text if $fence;
        } else {
            $fence = 0;
        }
    }
    $src = join "\n", @lines;
    my $dir = dirname($path);
    my ($code, $pos) = ('', 0);
    # Tokenise just enough of Rust: comments (prose, skipped), char literals (so '"' is no
    # string), raw strings, strings. Everything else is code.
    while ($src =~ m{
        (//[^\n]*)                                   # 1 line comment (docs included)
      | (/\*.*?\*/)                                  # 2 block comment
      | (b?r(\#*)"(.*?)"\4)                          # 3 raw string, 4 hashes, 5 body
      | (b?"((?:[^"\\]|\\.)*)")                      # 6 string, 7 body
      | ('(?:[^'\\\n]|\\[^\n]{1,9})')                # 8 char literal
    }gsx) {
        my ($comment, $block, $raw_body, $body) = ($1, $2, $5, $7);
        $code .= substr($src, $pos, $-[0] - $pos) . ' ';
        $pos = $+[0];
        next if defined $comment || defined $block || defined $8;
        my $lit = defined $raw_body ? $raw_body : $body;
        my $start = $-[0];
        my $line = 1 + (substr($src, 0, $start) =~ tr/\n//);
        my $before = substr($src, $start > 200 ? $start - 200 : 0, $start > 200 ? 200 : $start);
        my $why = offence($lit, $before, $dir);
        if ($why) {
            print "$rel:$line: \"$lit\": $why\n";
            $bad = 1;
        }
    }
    # Code (comments and literals removed) that walks up the directory tree.
    $code .= substr($src, $pos);
    if ($code =~ /\.(ancestors|parent)\s*\(\s*\)/) {
        print "$rel: calls .$1(): walks up the directory tree, out of the package root\n";
        $bad = 1;
    }
}
exit $bad;

sub offence {
    my ($lit, $before, $dir) = @_;
    my $include = $before =~ /(?:#\[path\s*=|\binclude(?:_str|_bytes)?!\s*\()\s*$/;
    return '' if $lit =~ m{^[a-z][a-z0-9+.-]*://}i && $lit !~ m{^file:}i;    # a URL, not a path
    my $from_root = $before =~ /\benv!\s*\(\s*"(?:CARGO_MANIFEST_DIR|OUT_DIR)"\s*\)\s*,\s*$/;
    if ($lit =~ m{(?:^|[/\\])\.\.(?:[/\\]|$)}) {
        # `..` only where the compiler resolves it against this file, and only inside the tree.
        return "climbs out of the package root (`..`): build paths downwards from env!(\"CARGO_MANIFEST_DIR\")"
            unless $include;
        my $target = abs_path(File::Spec->catfile($dir, $lit));
        return "resolves outside the repository" unless defined $target && index("$target/", "$root/") == 0;
        return '';
    }
    if ($lit =~ m{^(?:/[\w.-]|~[/\\]|[A-Za-z]:[\\/]|\\\\)}) {
        return '' if $from_root;
        return '' if grep { index($lit, $_) == 0 } @allowed_abs;
        return "absolute path";
    }
    return "names a directory outside the repository ($1)" if $lit =~ $foreign_root;
    return '';
}
