"""Result files that CI tools and people read: JUnit XML, JSON, CSV and HTML.

``assay run`` and ``assay scan`` turn their results into report cases (one per check, or one
per probe of a scan) and write each requested file from the same cases, so the JUnit file,
the CSV and the terminal table never disagree.
"""
