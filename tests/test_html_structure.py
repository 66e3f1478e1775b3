"""HTML read from its structure: whole sentences, sections as paths of real headings and terms, table
rows with their header cells named, code kept verbatim, no Markdown or HTML marks anywhere; checked on
small pages shaped like each documentation generator's output and on every public page there is."""
from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from qa.ingest import read_document, split_units
from qa.records import PATH_SEPARATOR as SEP
from qa.nlp import english

from conftest import ROOT

SPHINX = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Configuration &#8212; Frobnicator 2.1 documentation</title></head>
<body><div class="related"><ul><li><a href="index.html">Frobnicator 2.1 documentation</a> &#187;</li></ul></div>
<div class="document"><div class="body" role="main">
<section id="configuration"><h1>Configuration<a class="headerlink" href="#configuration" title="Permalink">&para;</a></h1>
<p>Frobnicator reads its settings from a file named <code class="docutils literal"><span class="pre">frob.toml</span></code> in the
project's root folder, or from the path given by the environment variable
<code class="docutils literal"><span class="pre">FROB_CONFIG</span></code> when it is set.</p>
<section id="command-line-options"><h2>Command-line options<a class="headerlink" href="#command-line-options">&para;</a></h2>
<dl class="std option"><dt class="sig sig-object std" id="cmdoption-frob-retries"><span class="sig-name descname"><span class="pre">--retries</span></span><span class="sig-prename descclassname"> <span class="pre">&lt;count&gt;</span></span></dt>
<dd><p>Number of times a failed upload is tried again before the run stops.
The default is 5; a value of 0 turns retrying off.</p></dd></dl>
<dl class="std option"><dt class="sig sig-object std" id="cmdoption-frob-q"><span class="sig-name descname"><span class="pre">-q</span></span></dt>
<dt class="sig sig-object std" id="cmdoption-frob-quiet"><span class="sig-name descname"><span class="pre">--quiet</span></span></dt>
<dd><p>Print nothing but errors. Useful in cron jobs, where any output is mailed to the owner.</p></dd></dl>
<p>To run a dry run over the staging bucket, use the following:</p>
<div class="highlight-console notranslate"><div class="highlight"><pre><span></span><span class="gp">$ </span>frob<span class="w"> </span>upload<span class="w"> </span>--dry-run<span class="w"> </span>staging
</pre></div></div>
</section></section></div></div>
<div class="footer">&#169; Copyright 2024, The Frobnicator team. Created using Sphinx 7.2.</div></body></html>"""

DOCBOOK = """<html><head><title>Chapter 3. Replication</title></head><body>
<div class="navheader"><table width="100%"><tr><td><a accesskey="p" href="ch02.html">Prev</a></td><td><a accesskey="n" href="ch04.html">Next</a></td></tr></table><hr></div>
<div class="chapter"><div class="titlepage"><div><div><h1 class="title"><a name="replication"></a>Chapter 3. Replication</h1></div></div></div>
<p>Replication copies every change made on the primary server to one or more standby servers, so
that a standby can take over when the primary fails.</p>
<div class="sect1"><div class="titlepage"><div><div><h2 class="title" style="clear: both"><a name="replication-settings"></a>3.1. Settings</h2></div></div></div>
<div class="variablelist"><dl class="variablelist">
<dt><span class="term"><code class="varname">standby_delay</code> (<code class="type">integer</code>)</span></dt>
<dd><p>Sets how long, in milliseconds, a standby waits before it applies a change it has received.
  The default is 30000 milliseconds.</p></dd>
<dt><span class="term"><code class="varname">sync_mode</code> (<code class="type">enum</code>)</span></dt>
<dd><p>Chooses when a commit returns. Valid values are <code class="literal">off</code>,
  <code class="literal">local</code> and <code class="literal">remote</code>.</p></dd>
</dl></div>
<p>A standby is started with the following command:</p>
<pre class="programlisting">replicator start --standby \\
    --primary db1.example.com</pre>
</div></div>
<div class="navfooter"><hr><table width="100%"><tr><td>Prev</td><td>Home</td><td>Next</td></tr></table></div></body></html>"""

MKDOCS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Limits - Quota Service</title></head><body>
<header class="md-header"><nav><a href="/">Quota Service</a><a href="/search">Search the site</a></nav></header>
<div class="md-container"><main class="md-main"><div class="md-content"><article class="md-content__inner md-typeset">
<h1 id="limits">Limits</h1>
<p>Every account has limits on how much it may store and how many requests it may send. The limits
below apply to the free plan; paid plans raise them.</p>
<h2 id="request-limits">Request limits<a class="headerlink" href="#request-limits" title="Permanent link">&para;</a></h2>
<table><thead><tr><th>Endpoint</th><th>Requests per minute</th></tr></thead>
<tbody><tr><td><code>/v1/upload</code></td><td>60</td></tr>
<tr><td><code>/v1/search</code></td><td>600</td></tr></tbody></table>
<p>When a limit is reached the service answers with status 429 and a <code>Retry-After</code> header.</p>
<ul><li>Limits are counted per API key, not per user.</li>
<li>A burst of up to twice the limit is allowed for ten seconds.</li></ul>
</article></div></main>
<footer class="md-footer"><p>Made with Material for MkDocs</p></footer></div></body></html>"""

JAVADOC = """<!DOCTYPE HTML><html lang="en"><head><title>RetryPolicy (Courier 4.2 API)</title></head><body class="class-declaration-page">
<header role="banner" class="flex-header"><nav role="navigation"><div class="top-nav" id="navbar-top"><ul class="nav-list"><li><a href="../package-summary.html">Package</a></li><li class="nav-bar-cell1-rev">Class</li><li><a href="../help-doc.html">Help</a></li></ul></div></nav></header>
<main role="main"><div class="header"><h1 title="Class RetryPolicy" class="title">Class RetryPolicy</h1></div>
<section class="class-description" id="class-description"><div class="block">A policy that decides whether a failed delivery is tried again, and after how long.
Policies are immutable and may be shared between threads.</div></section>
<section class="details"><section class="method-details" id="method-detail"><h2>Method Details</h2>
<section class="detail" id="maxAttempts()"><h3>maxAttempts</h3>
<div class="member-signature"><span class="modifiers">public</span>&nbsp;<span class="return-type">int</span>&nbsp;<span class="element-name">maxAttempts</span>()</div>
<div class="block">Returns the largest number of attempts a delivery is given, the first one included.</div>
<dl class="notes"><dt>Returns:</dt><dd>the number of attempts, 3 unless the builder set another</dd></dl>
</section></section></section></main>
<footer role="contentinfo"><p class="legal-copy"><small>Copyright &#169; 2024 Courier. All rights reserved.</small></p></footer></body></html>"""

# Asciidoctor's manual pages: the source's hard-wrapped lines stay in the HTML
ASCIIDOCTOR = """<!DOCTYPE html><html lang="en"><head><title>tool-sync(1)</title></head><body class="manpage">
<div id="header"><h1>tool-sync(1) Manual Page</h1></div>
<div id="content"><div class="sect1"><h2 id="_description">DESCRIPTION</h2><div class="sectionbody">
<div class="paragraph"><p>Copies the objects the other side lacks. When the sender and the
receiver share many of the same objects in common, only the difference is sent. The default is
to send everything the receiver asks for.</p></div></div></div>
<div class="sect1"><h2 id="_options">OPTIONS</h2><div class="sectionbody"><div class="dlist"><dl>
<dt class="hdlist1">--depth &lt;depth&gt;</dt>
<dd><p>Limit the history sent to the given number of commits from the tip of each
branch.  Under <code>--dry-run</code>, the
limit is only reported.</p></dd>
<dt class="hdlist1">--timeout &lt;seconds&gt;</dt>
<dd><p>Number of seconds to wait for the other side (default: 900).</p></dd></dl></div>
<div class="listingblock"><div class="content"><pre>$ tool-sync --depth 1 origin

$ tool-sync --timeout 60 origin</pre></div></div></div></div></div>
<div id="footer"><div id="footer-text">Last updated 2024-01-01</div></div></body></html>"""

# a FAQ page: questions as terms, a how-to that gives its command a sentence later, a cross-reference
FAQ = """<!DOCTYPE html><html lang="en"><head><title>tool-sync FAQ</title></head><body>
<div id="header"><h1>tool-sync FAQ</h1></div><div id="content"><div class="sect1"><h2>Cache</h2>
<div class="sectionbody"><div class="dlist"><dl>
<dt class="hdlist1">How do I start again from an empty cache?</dt>
<dd><p>The cache can be erased at any time; the next run fills it again. To erase it, use a command
like the following:</p>
<div class="listingblock"><div class="content"><pre>$ tool-sync cache --erase</pre></div></div></dd>
<dt class="hdlist1">Is the cache shared between users?</dt>
<dd><p>See tool-sync-cache(5) for details.</p><p>The cache isn&#8217;t shared: each user has one of their own.</p></dd>
</dl></div>
<div class="paragraph"><p>Full sending was the default from version 1.2 until 2.0, when sending only the
difference became the default.</p></div></div></div></div></body></html>"""

# GNU Texinfo's output (makeinfo 6 and 7): a navigation bar above and below each node, a menu of the
# node's subsections, the node's heading, a function's definition as a term
TEXINFO = """<!DOCTYPE html><html><head><title>Calling (frob: the portable frobnication library)</title>
<meta name="Generator" content="makeinfo"><link href="Index.html" rel="index" title="Index"></head>
<body lang="en"><div class="section" id="Calling">
<div class="header"><p>
Next: <a href="Closures.html" accesskey="n" rel="next">Closures</a>, Previous: <a href="Types.html" accesskey="p" rel="prev">What is a frob type?</a>, Up: <a href="Using-frob.html" accesskey="u" rel="up">Using frob</a> &nbsp; [<a href="Index.html" title="Index" rel="index">Index</a>]</p>
</div><hr>
<span id="Calling-1"></span><h3 class="section">2.2 Calling</h3>
<ul class="section-toc"><li><a href="Calling-Simple.html" accesskey="1">Simple calls</a></li>
<li><a href="Calling-Variadic.html" accesskey="2">Variadic calls</a></li></ul>
<p>Once a frame is prepared, the function is called through it as many times as needed.</p>
<dl class="def"><dt id="index-frob_005finvoke"><span class="category">Function: </span><span><em>void</em> <strong>frob_invoke</strong> <em>(frob_frame *<var>frame</var>, void *<var>fn</var>)</em></span></dt>
<dd><p>This calls the function <var>fn</var> through the prepared <var>frame</var>.</p></dd></dl>
<p>See <a href="Closures.html">Closures</a> for functions made at run time.</p>
</div><hr>
<div class="nav-panel"><p>
Next: <a href="Closures.html">Closures</a>, Previous: <a href="Types.html">What is a frob type?</a> &nbsp; [<a href="index.html#SEC_Contents" title="Table of contents" rel="contents">Contents</a>][<a href="Index.html" title="Index" rel="index">Index</a>]</p>
</div></body></html>"""  # the bar below a node: its links labelled, not marked (makeinfo 6)

MARKS = re.compile(r"`|\\[\[\]*_]|\*\*|\]\(|^#{1,6} |^[-*+] |&(?:[a-z]+|#\d+);|\u00b6|"
                   r"</?(?:p|div|span|a|b|i|em|strong|code|pre|br|li|ul|ol|dl|dt|dd|table|tr|td|th|h[1-6]|img)\b[^>]*>")


@pytest.fixture(scope="module")
def nlp():
    return english()


def units_of(path: Path, nlp):
    doc = read_document(path)
    units, title, _ = split_units(doc, nlp)
    for u in units:  # every unit is the stored text's own slice
        assert doc.text[u.start:u.end] == u.text
    return doc, units, title


def page(tmp_path: Path, name: str, html: str) -> Path:
    p = tmp_path / name
    p.write_text(html, encoding="utf-8")
    return p


def assert_clean(units) -> None:
    """No Markdown or HTML marks, no permalink signs, no line breaks outside code, in units and sections."""
    for u in units:
        if u.kind != "code":
            assert "\n" not in u.text, u.text
            assert not MARKS.search(u.text), u.text
        assert u.section is None or ("\n" not in u.section and not MARKS.search(u.section)), u.section


def by_text(units, text):
    (u,) = [u for u in units if u.text == text]
    return u


def test_sphinx_options_are_terms_with_their_descriptions_under_them(tmp_path, nlp):
    doc, units, title = units_of(page(tmp_path, "config.html", SPHINX), nlp)
    assert_clean(units)
    assert title == "Configuration"
    assert by_text(units, "--retries <count>").kind == "term"
    assert by_text(units, "-q, --quiet").kind == "term"  # terms of one description said together
    default = by_text(units, "The default is 5; a value of 0 turns retrying off.")
    assert default.kind == "sentence" and default.section == SEP.join(["Configuration", "Command-line options", "--retries <count>"])
    code = by_text(units, "$ frob upload --dry-run staging")
    assert code.kind == "code" and code.section == "Configuration" + SEP + "Command-line options"
    reads = [u for u in units if u.text.startswith("Frobnicator reads")][0]
    literals = {doc.text[a:b] for a, b, label in reads.entities if label == "CODE"}
    assert literals == {"frob.toml", "FROB_CONFIG"}
    assert "Copyright" not in doc.text and "documentation" not in doc.text.split("\n")[0]


def test_docbook_titles_deep_in_wrappers_are_still_headings(tmp_path, nlp):
    doc, units, _ = units_of(page(tmp_path, "replication.html", DOCBOOK), nlp)
    assert_clean(units)
    assert by_text(units, "3.1. Settings").kind == "heading"
    default = by_text(units, "The default is 30000 milliseconds.")
    assert default.section == SEP.join(["Chapter 3. Replication", "3.1. Settings", "standby_delay (integer)"])
    code = by_text(units, "replicator start --standby \\\n    --primary db1.example.com")  # verbatim, indented
    assert code.kind == "code" and (code.start, code.end, "CODE") in code.entities
    assert "Prev" not in doc.text


def test_texinfo_navigation_bars_and_menus_are_not_units(tmp_path, nlp):
    doc, units, _ = units_of(page(tmp_path, "Calling.html", TEXINFO), nlp)
    assert_clean(units)
    said = " ".join(u.text for u in units)
    for nav in ("Next:", "Previous:", "Up:", "[Index]", "Index", "Contents", "Simple calls", "What is a frob type?"):
        assert nav not in said, nav
    calls = by_text(units, "This calls the function fn through the prepared frame.")
    assert calls.section.endswith("frob_invoke (frob_frame *frame, void *fn)")
    assert by_text(units, "See Closures for functions made at run time.")  # a link inside a sentence stays


def test_mkdocs_table_rows_name_their_header_cells(tmp_path, nlp):
    doc, units, _ = units_of(page(tmp_path, "limits.html", MKDOCS), nlp)
    assert_clean(units)
    rows = [u for u in units if u.kind == "row"]
    assert [u.text for u in rows] == ["Endpoint: /v1/upload; Requests per minute: 60",
                                      "Endpoint: /v1/search; Requests per minute: 600"]
    assert {u.section for u in rows} == {"Limits" + SEP + "Request limits"}
    item = by_text(units, "Limits are counted per API key, not per user.")  # a list item stays a sentence
    assert item.kind == "sentence" and item.section == "Limits" + SEP + "Request limits"
    assert "Search the site" not in doc.text and "Made with" not in doc.text


def test_javadoc_members_are_paths_of_headings(tmp_path, nlp):
    doc, units, _ = units_of(page(tmp_path, "RetryPolicy.html", JAVADOC), nlp)
    assert_clean(units)
    returns = by_text(units, "the number of attempts, 3 unless the builder set another")
    assert returns.section == SEP.join(["Class RetryPolicy", "Method Details", "maxAttempts", "Returns:"])
    assert "Package" not in doc.text and "Help" not in doc.text


def test_asciidoctor_wrapped_source_lines_are_whole_sentences(tmp_path, nlp):
    doc, units, _ = units_of(page(tmp_path, "tool-sync.html", ASCIIDOCTOR), nlp)
    assert_clean(units)
    texts = [u.text for u in units]
    assert ("When the sender and the receiver share many of the same objects in common, only the difference is sent."
            in texts)
    assert "The default is to send everything the receiver asks for." in texts
    assert not any(u.kind == "heading" and "default" in u.text for u in units)  # a wrapped line is no heading
    depth = [u for u in units if u.text.startswith("Limit the history")][0]
    assert depth.section == SEP.join(["tool-sync(1) Manual Page", "OPTIONS", "--depth <depth>"])
    assert "Under --dry-run, the limit is only reported." in texts
    code = [u for u in units if u.kind == "code"]
    assert [u.text for u in code] == ["$ tool-sync --depth 1 origin\n \n$ tool-sync --timeout 60 origin"]


def test_an_option_reference_answers_with_the_option_and_the_default(tmp_path):
    from qa.build import build
    from qa.library import load
    from qa.pipeline import ask

    build([str(page(tmp_path, "tool-sync.html", ASCIIDOCTOR)), str(page(tmp_path, "config.html", SPHINX))],
          tmp_path / "index")
    index = load(tmp_path / "index")
    quiet = ask(index, "Which option prints nothing but errors?").as_dict()
    assert quiet["answer"] == "-q, --quiet", quiet  # the term, not a word of its description
    assert quiet["sources"][0]["text"] == "Print nothing but errors."
    retries = ask(index, "What is the default number of retries?").as_dict()  # "retries" is the option's word
    assert retries["answer"] == "5", retries
    wait = ask(index, "How long does tool-sync wait for the other side by default?").as_dict()
    assert wait["answer"] and "900" in wait["answer"], wait
    source = wait["sources"][0]
    assert source["section"] == SEP.join(["tool-sync(1) Manual Page", "OPTIONS", "--timeout <seconds>"])
    # a define question that asks one property: the description is its answer only where it says it
    depth = ask(index, "What is the default value of --depth?").as_dict()
    assert not (depth["answer"] or "").startswith("Limit the history"), depth
    timeout = ask(index, "What is the default value of --timeout?").as_dict()
    assert timeout["answer"] and "900" in timeout["answer"], timeout


PUBLIC = ROOT.parent / "shared" / "data"
PUBLIC_PAGES = sorted(PUBLIC.glob("docs/**/*.html")) + sorted(PUBLIC.glob("news-html/*.html"))


@pytest.mark.skipif(not PUBLIC_PAGES, reason="the public pages are not beside this checkout")
def test_a_yes_no_question_is_answered_from_the_page_it_names(tmp_path):
    """gitfaq's "All of these store credentials in an encrypted store" is of other helpers; the page
    the question names says "unencrypted"."""
    from qa.build import build
    from qa.library import load
    from qa.pipeline import ask

    git = PUBLIC / "docs" / "git"
    build([str(git / "gitfaq.html"), str(git / "git-credential-store.html")], tmp_path / "index")
    a = ask(load(tmp_path / "index"), "Does git credential-store encrypt the passwords it saves?").as_dict()
    assert a["answer"].startswith("no"), a
    assert a["sources"][0]["doc"].endswith("git-credential-store.html"), a["sources"][0]


@pytest.mark.skipif(not PUBLIC_PAGES, reason="the public pages are not beside this checkout")
def test_every_public_page_reads_clean_with_headings_from_real_headings(nlp):
    for path in PUBLIC_PAGES:
        doc, units, _ = units_of(path, nlp)
        assert_clean(units)
        tree = lxml.html.fromstring(path.read_bytes())
        real = {" ".join(h.text_content().split()).rstrip(" \u00b6#") for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6", "dt", "th", "caption", "summary")}
        real |= {" ".join(t.split()) for t in tree.xpath("//title/text() | //meta/@content")}
        for u in units:
            if u.kind in ("heading", "headline"):
                assert u.text in real, (path.name, u.text)


def test_documentation_questions_are_answered_as_the_page_says(tmp_path):
    from qa.build import build
    from qa.library import load
    from qa.pipeline import ask

    build([str(page(tmp_path, "tool-sync.html", ASCIIDOCTOR)), str(page(tmp_path, "faq.html", FAQ))], tmp_path / "index")
    index = load(tmp_path / "index")
    erase = ask(index, "How do I erase the cache?").as_dict()  # the command given a sentence later, as written
    assert erase["answer"] == "$ tool-sync cache --erase", erase
    assert erase["sources"][0]["text"].startswith("To erase it, use a command")
    depth = ask(index, "What does --depth do?").as_dict()  # a named option: its description
    assert depth["answer"].startswith("Limit the history sent to the given number of commits"), depth
    versions = ask(index, "Between which versions was full sending the default?").as_dict()  # both ends
    assert versions["answer"] and "1.2 until 2.0" in versions["answer"], versions
    shared = ask(index, "Is the cache shared between users?").as_dict()  # the cross-reference does not answer
    assert shared["answer"].startswith("no"), shared
    assert shared["sources"][0]["text"].startswith("The cache isn"), shared
